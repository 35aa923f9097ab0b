-- Compare-and-set on several fields of an experiment's definition hash KEYS[1]:
-- ARGV[1] = n, then n field/expected pairs (a missing field reads as ''), then the
-- field/value pairs to set. Sets them only when every expectation holds; returns 1/0.
local n = tonumber(ARGV[1])
for i = 2, 2 * n, 2 do
  if (redis.call('HGET', KEYS[1], ARGV[i]) or '') ~= ARGV[i + 1] then return 0 end
end
for i = 2 * n + 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
