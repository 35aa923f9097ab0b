-- ARGV[4] user pseudonym. Subtracts the user's contribution from every sum, then
-- forgets the user; returns {1, exposures} when the user had state, else {0, 0}.
local uid = ARGV[4]
prefetch({uid})
local st = states[uid]
if not st then return {0, 0} end
local zero = {st[1], 0, st[3]}
for _ = 1, 2 * #kinds do zero[#zero + 1] = 0 end
-- settle moves every metric from the user's state (as "before") to zeros.
settle(zero, st)
local h = sums(prefix .. 'agg:' .. st[1])
incr(h, 'users', -1)
incr(h, 'exposures', -st[2])
incr(h, 'c', -st[3])
incr(h, 'cc', -st[3] * st[3])
flush_sums()
redis.call('HDEL', U, uid)
redis.call('DEL', declared_key(prefix .. 'books:' .. uid))
return {1, st[2]}
