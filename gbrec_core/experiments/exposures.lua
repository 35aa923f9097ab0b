-- ARGV[4] log min score, ARGV[5] batch time (ms), ARGV[6] batch id, ARGV[7] number of
-- metrics, ARGV[8] precision index, ARGV[9] newline-separated
-- "user|variant|covariate|book,book,...", ARGV[10] newline-separated raw JSON (or '').
-- Batches travel as two strings: per-argument overhead dominated the cost when every
-- field was its own argument.
local nm = tonumber(ARGV[7])
local pk = tonumber(ARGV[8])
local items = batch_items(ARGV[9])
for i = 1, #items do
  local f = fields(items[i])
  local uid, variant, cov = f[1], tonumber(f[2]), tonumber(f[3])
  local st = states[uid]
  if st then
    if st[1] ~= variant then incr(sums(prefix .. 'agg:' .. variant), 'conflicts', 1) end
  else
    st = {variant, 0, cov}
    for _ = 1, 2 * nm do st[#st + 1] = 0 end
    states[uid] = st
    local h0 = sums(prefix .. 'agg:' .. variant)
    incr(h0, 'users', 1)
    incr(h0, 'c', cov)
    incr(h0, 'cc', cov * cov)
  end
  st[2] = st[2] + 1
  incr(sums(prefix .. 'agg:' .. st[1]), 'exposures', 1)
  local B = declared_key(prefix .. 'books:' .. uid)
  local books = {}
  for book in string.gmatch(f[4] or '', '[^,]+') do books[#books + 1] = book end
  local shown = 0
  if #books > 0 then
    local flags = redis.call('HMGET', B, unpack(books))
    local set, seen = {}, {}
    for j, book in ipairs(books) do
      local fl = tonumber(flags[j] or '0')
      if fl % 2 == 0 and not seen[book] then
        seen[book] = true
        set[#set + 1] = book
        set[#set + 1] = fl + 1
        shown = shown + 1
      end
    end
    if shown > 0 then redis.call('HSET', B, unpack(set)) end
  end
  if shown > 0 then
    redis.call('EXPIRE', B, ttl)
    local ib = 5 + 2 * pk
    st[ib] = st[ib] + shown
  end
  dirty[uid] = true
end
append_log(ARGV[4], ARGV[5], ARGV[6], ARGV[10])
finish()
return 1
