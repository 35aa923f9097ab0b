-- ARGV[4] newline-separated "request|book" (positive feedback only). KEYS (on a
-- cluster): the served record of every line and the counts keys of the records the
-- caller read beforehand.
-- Returns {attributed, duplicates, not_shown, unknown lines} (unknown: no such record,
-- or not yet flushed by the process that served it, or written since the caller's read,
-- so its counts key is not declared; the caller may retry those).
local records = {}
local attributed, duplicates, not_shown, unknown = 0, 0, 0, {}

local function load(key)
  local rec = records[key]
  if rec ~= nil then return rec end
  rec = false
  local raw = redis.call('GET', declared_key(key))
  if raw then
    local v, b, n, books, clicked = string.match(raw, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$')
    if v and is_declared(prefix .. v .. ':' .. b) then
      local hits = 0
      for _ in string.gmatch(clicked, '[^,]+') do hits = hits + 1 end
      rec = {v = v, b = b, n = tonumber(n), books = ',' .. books .. ',',
             clicked = clicked, hits = hits, dirty = false}
    end
  end
  records[key] = rec
  return rec
end

local function has(list, book)
  return string.find(list, ',' .. book .. ',', 1, true) ~= nil
end

for line in string.gmatch(ARGV[4], '[^\n]+') do
  local rid, book = string.match(line, '^([^|]+)|(%d+)$')
  local rec = rid and load(prefix .. 'served:' .. rid)
  if not rec then
    unknown[#unknown + 1] = line
  elseif not has(rec.books, book) then
    not_shown = not_shown + 1
  elseif has(',' .. rec.clicked .. ',', book) then
    duplicates = duplicates + 1
  else
    local h = rec.hits
    if h == 0 then incr(rec.v, rec.b, 'clicked', 1) end
    incr(rec.v, rec.b, 'hits', 1)
    incr(rec.v, rec.b, 'hits_sq', 2 * h + 1)
    incr(rec.v, rec.b, 'hits_shown', rec.n)
    rec.hits = h + 1
    if rec.clicked == '' then rec.clicked = book else rec.clicked = rec.clicked .. ',' .. book end
    rec.dirty = true
    attributed = attributed + 1
  end
end
for key, rec in pairs(records) do
  if rec and rec.dirty then
    local value = rec.v .. '|' .. rec.b .. '|' .. rec.n .. '|'
      .. string.sub(rec.books, 2, -2) .. '|' .. rec.clicked
    redis.call('SET', key, value, 'KEEPTTL')
  end
end
flush_counts()
return {attributed, duplicates, not_shown, unknown}
