-- ARGV[4] stream, ARGV[5] MINID, ARGV[6] metrics, ARGV[7] precision index, ARGV[8]
-- newline-separated "user|variant|covariate|book,book,...", ARGV[9] newline-separated raw
-- JSON for the stream (or ''). Batches travel as two strings: per-argument overhead
-- dominated the cost when every field was its own argument.
local stream, minid = ARGV[4], ARGV[5]
local nm = tonumber(ARGV[6])
local pk = tonumber(ARGV[7])
local items = batch_items(ARGV[8])
local raws = {}
if ARGV[9] ~= '' then raws = fields(ARGV[9], '\n') end
for i = 1, #items do
  local f = fields(items[i])
  local uid, variant, cov = f[1], tonumber(f[2]), tonumber(f[3])
  local st = load_state(uid)
  if st then
    if st[1] ~= variant then incr(prefix .. 'agg:' .. variant, 'conflicts', 1) end
  else
    st = {variant, 0, cov}
    for _ = 1, 2 * nm do st[#st + 1] = 0 end
    local A0 = prefix .. 'agg:' .. variant
    incr(A0, 'users', 1)
    incr(A0, 'c', cov)
    incr(A0, 'cc', cov * cov)
  end
  local A = prefix .. 'agg:' .. st[1]
  st[2] = st[2] + 1
  incr(A, 'exposures', 1)
  local B = prefix .. 'books:' .. uid
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
    local ia = 4 + 2 * pk
    apply(A, pk, st[3], st[ia], st[ia + 1], st[ia], st[ia + 1] + shown)
    st[ia + 1] = st[ia + 1] + shown
  end
  save_state(uid, st)
  if raws[i] then
    redis.call('XADD', stream, 'MINID', '~', minid, '*', 'user', uid, 'd', raws[i])
  end
end
finish()
return 1
