-- ARGV[4] log min score, ARGV[5] batch time (ms), ARGV[6] batch id, ARGV[7]
-- newline-separated "user|book|ops" (ops: "k,da,db,cond|k,da,db,cond..."), ARGV[8]
-- newline-separated raw JSON (or ''). Returns the number of events attributed (their
-- user had been exposed).
local attributed = 0

-- One pass of gmatch over the batch (no per-line strings), then one HMGET per 500 users.
local uids, books, texts, n = {}, {}, {}, 0
for uid, book, text in string.gmatch(ARGV[7], '([^|\n]+)|([^|\n]*)|?([^\n]*)') do
  n = n + 1
  uids[n], books[n], texts[n] = uid, book, text
end
prefetch(uids)

-- A few op lists repeat endlessly (they depend on the event type, the value and
-- whether a book is given): each distinct text is parsed once.
local parsed = {}
local function ops_of(text)
  local ops = parsed[text]
  if ops == nil then
    ops = {}
    for op in string.gmatch(text, '[^|]+') do
      local k, da, db, cond = string.match(op, '([^,]+),([^,]+),([^,]+),([^,]+)')
      ops[#ops + 1] = {tonumber(k), tonumber(da), tonumber(db), tonumber(cond)}
    end
    parsed[text] = ops
  end
  return ops
end

-- Shown-book flags (1 shown, 2 precision hit, 4 positively rated) gate the precision
-- and recall updates; returns whether the op counts and the da to apply.
local function gate(flags, cond, da)
  local shown = flags % 2 == 1
  if cond == 1 then
    if shown and math.floor(flags / 2) % 2 == 0 then return true, flags + 2, da end
    return false, flags, da
  end
  if math.floor(flags / 4) % 2 == 0 then
    if shown then return true, flags + 4, 1 end
    return true, flags + 4, 0
  end
  return false, flags, da
end

for i = 1, n do
  local uid = uids[i]
  local st = states[uid]
  if st then
    local ops = ops_of(texts[i])
    local B, flags, flags0 = nil, nil, nil
    for j = 1, #ops do
      local op = ops[j]
      local k, da, db, cond = op[1], op[2], op[3], op[4]
      local ok = true
      if cond > 0 then
        if flags == nil then
          B = prefix .. 'books:' .. uid
          flags = tonumber(redis.call('HGET', B, books[i]) or '0')
          flags0 = flags
        end
        ok, flags, da = gate(flags, cond, da)
      end
      if ok then
        local ia = 4 + 2 * k
        st[ia], st[ia + 1] = st[ia] + da, st[ia + 1] + db
      end
    end
    if flags ~= flags0 then redis.call('HSET', B, books[i], flags) end
    dirty[uid] = true
    attributed = attributed + 1
  end
end
append_log(ARGV[4], ARGV[5], ARGV[6], ARGV[8])
finish()
return attributed
