-- ARGV[6] = user (ARGV[4], ARGV[5] unused). Subtracts the user's contribution from
-- every sum, then forgets the user.
local uid = ARGV[6]
local raw = redis.call('HGET', U, uid)
if not raw then return 0 end
local st = cmsgpack.unpack(raw)
local A = prefix .. 'agg:' .. st[1]
for k = 0, #kinds - 1 do
  local ia = 4 + 2 * k
  apply(A, k, st[3], st[ia], st[ia + 1], 0, 0)
end
incr(A, 'users', -1)
incr(A, 'exposures', -st[2])
incr(A, 'c', -st[3])
incr(A, 'cc', -st[3] * st[3])
flush_sums()
redis.call('HDEL', U, uid)
redis.call('DEL', prefix .. 'books:' .. uid)
return 1
