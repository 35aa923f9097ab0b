-- Shared by the record and attribute scripts. KEYS (on a cluster): the served records
-- and the counts keys (<prefix><version>:<bucket>) the batch may touch (declared_key).
-- ARGV[1] key prefix, ARGV[2] bucket width (s), ARGV[3] counts retention (s).
local prefix = ARGV[1]
local width, retention = tonumber(ARGV[2]), tonumber(ARGV[3])

-- Deltas are summed per counts key in Lua and written once per field at the end.
local acc, hours = {}, {}
local function incr(version, bucket, field, d)
  local key = prefix .. version .. ':' .. bucket
  local h = acc[key]
  if h == nil then
    h = {}
    acc[key] = h
    hours[key] = tonumber(bucket)
  end
  h[field] = (h[field] or 0) + d
end

local function flush_counts()
  for key, h in pairs(acc) do
    declared_key(key)
    for field, d in pairs(h) do redis.call('HINCRBY', key, field, d) end
    redis.call('EXPIREAT', key, hours[key] * width + retention)
  end
end
