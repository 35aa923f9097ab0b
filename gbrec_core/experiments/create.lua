-- Create an experiment's definition hash KEYS[1]: field 'spec' = ARGV[1], then the
-- field/value pairs ARGV[2..], all at once, unless a spec is already there. Returns 1
-- when created, 0 when the experiment existed.
if redis.call('HEXISTS', KEYS[1], 'spec') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'spec', unpack(ARGV))
return 1
