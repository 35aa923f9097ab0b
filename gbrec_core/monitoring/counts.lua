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
    for field, d in pairs(h) do redis.call('HINCRBY', key, field, d) end
    redis.call('EXPIREAT', key, hours[key] * width + retention)
  end
end
