-- Compare-and-set on an experiment's definition hash KEYS[1]: set the field/value pairs
-- ARGV[2..] only while its status is still ARGV[1]; returns 1 when set, 0 otherwise.
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[1] then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
