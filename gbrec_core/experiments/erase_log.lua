-- Remove one user's entries from a raw-event log (KEYS[1], a sorted set of batches
-- "<batch id>\n<json>\n<json>..." scored by time), a slice at a time so no call blocks
-- the server for long. ARGV[1] the text that marks the user's lines ('"user":"<p>"'),
-- ARGV[2] start score, ARGV[3] members at that score already visited, ARGV[4] slice
-- size. A rewritten batch keeps its score and id prefix, hence its place in the order.
-- Returns {removed lines (a list), next score, next skip, 1 when the log is exhausted}.
local needle, start, skip, count = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local got = redis.call('ZRANGEBYSCORE', KEYS[1], start, '+inf', 'WITHSCORES', 'LIMIT', skip, count)
local removed = {}
local last, same = start, skip
for i = 1, #got, 2 do
  local member, score = got[i], got[i + 1]
  if score ~= last then last, same = score, 0 end
  local stays = true
  if string.find(member, needle, 1, true) then
    local kept = {}
    for line in string.gmatch(member, '[^\n]+') do
      if string.find(line, needle, 1, true) then
        removed[#removed + 1] = line
      else
        kept[#kept + 1] = line
      end
    end
    redis.call('ZREM', KEYS[1], member)
    stays = #kept > 1
    if stays then redis.call('ZADD', KEYS[1], score, table.concat(kept, '\n')) end
  end
  -- a removed batch no longer takes a place at its score: the next slice must not skip it
  if stays then same = same + 1 end
end
local done = 0
if #got < 2 * count then done = 1 end
return {removed, last, same, done}
