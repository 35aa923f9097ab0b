-- ARGV[4] log min score, ARGV[5] batch time (ms), ARGV[6] batch id, ARGV[7]
-- newline-separated "user|book|ops" (ops: "k,da,db,cond|k,da,db,cond..."), ARGV[8]
-- newline-separated raw JSON (or ''). Returns the number of events attributed (their
-- user had been exposed).
--
-- An event touches one or two metrics of its user, so states stay packed strings: the
-- touched (a, b) pairs are read at their offsets, and spliced back at the end.
local attributed = 0

-- One pass of gmatch over the batch (no per-line strings), then one HMGET per 500 users.
local uids, books, texts, n = {}, {}, {}, 0
for uid, book, text in string.gmatch(ARGV[7], '([^|\n]+)|([^|\n]*)|?([^\n]*)') do
  n = n + 1
  uids[n], books[n], texts[n] = uid, book, text
end
local raws = {} -- user -> packed state, false when never exposed
for lo = 1, n, 500 do
  local hi = math.min(lo + 499, n)
  local got = redis.call('HMGET', U, unpack(uids, lo, hi))
  for j = 1, hi - lo + 1 do raws[uids[lo + j - 1]] = got[j] or false end
end

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
-- and recall updates; returns whether the op counts, the new flags and the da to apply.
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

-- Metric k of a touched user: slot[k][uid] = j, with (a, b) before the batch in A0[j],
-- B0[j] and after it in A1[j], B1[j]; users in first-touch order in order[]. Flat
-- arrays, because a table per user and metric made the garbage collector a cost.
-- (a, b) of metric k sit after [variant, exposures, covariate]: byte 25 + 16k.
local slot, A0, B0, A1, B1, order, seen, used = {}, {}, {}, {}, {}, {}, {}, 0
for k = 0, #kinds - 1 do slot[k] = {} end
local function pair(uid, raw, k)
  local j = slot[k][uid]
  if j == nil then
    used = used + 1
    j = used
    A0[j], B0[j] = struct.unpack('<dd', raw, 25 + 16 * k)
    A1[j], B1[j] = A0[j], B0[j]
    slot[k][uid] = j
    if not seen[uid] then
      seen[uid] = true
      order[#order + 1] = uid
    end
  end
  return j
end

for i = 1, n do
  local uid = uids[i]
  local raw = raws[uid]
  if raw then
    local ops = ops_of(texts[i])
    local B, flags, flags0 = nil, nil, nil
    for j = 1, #ops do
      local op = ops[j]
      local k, da, db, cond = op[1], op[2], op[3], op[4]
      local ok = true
      if cond > 0 then
        if flags == nil then
          B = declared_key(prefix .. 'books:' .. uid)
          flags = tonumber(redis.call('HGET', B, books[i]) or '0')
          flags0 = flags
        end
        ok, flags, da = gate(flags, cond, da)
      end
      if ok then
        local p = pair(uid, raw, k)
        A1[p], B1[p] = A1[p] + da, B1[p] + db
      end
    end
    if flags ~= flags0 then redis.call('HSET', B, books[i], flags) end
    attributed = attributed + 1
  end
end

-- Each touched user: one move per changed metric into the sums, one spliced state.
local args, parts = {}, {}
for _, uid in ipairs(order) do
  local raw = raws[uid]
  local variant, c = struct.unpack('<d', raw, 1), struct.unpack('<d', raw, 17)
  local m = metric_sums(variant)
  local np, pos = 0, 1
  for k = 0, #kinds - 1 do
    local p = slot[k][uid]
    if p and (A1[p] ~= A0[p] or B1[p] ~= B0[p]) then
      apply(m, k, c, A0[p], B0[p], A1[p], B1[p])
      local off = 25 + 16 * k
      parts[np + 1] = string.sub(raw, pos, off - 1)
      parts[np + 2] = struct.pack('<dd', A1[p], B1[p])
      np, pos = np + 2, off + 16
    end
  end
  if pos > 1 then
    parts[np + 1] = string.sub(raw, pos)
    args[#args + 1] = uid
    args[#args + 1] = table.concat(parts, '', 1, np + 1)
    if #args >= 1000 then
      redis.call('HSET', U, unpack(args))
      args = {}
    end
  end
end
if #args > 0 then redis.call('HSET', U, unpack(args)) end
append_log(ARGV[4], ARGV[5], ARGV[6], ARGV[8])
flush_sums()
return attributed
