-- ARGV[4] record TTL in ms, ARGV[5] newline-separated "request|version|bucket|n|b,b,..."
-- Returns {recorded, duplicates}.
local ttl = ARGV[4]
local recorded, duplicates = 0, 0
for line in string.gmatch(ARGV[5], '[^\n]+') do
  local rid, version, bucket, n, books = string.match(line, '^([^|]+)|([^|]+)|(%d+)|(%d+)|(.*)$')
  if rid then
    local value = version .. '|' .. bucket .. '|' .. n .. '|' .. books .. '|'
    if redis.call('SET', declared_key(prefix .. 'served:' .. rid), value, 'PX', ttl, 'NX') then
      n = tonumber(n)
      incr(version, bucket, 'requests', 1)
      incr(version, bucket, 'shown', n)
      incr(version, bucket, 'shown_sq', n * n)
      recorded = recorded + 1
    else
      duplicates = duplicates + 1
    end
  end
end
flush_counts()
return {recorded, duplicates}
