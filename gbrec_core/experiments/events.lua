-- ARGV[4] stream, ARGV[5] MINID, ARGV[6] newline-separated "user|book|k,da,db,cond|...",
-- ARGV[7] newline-separated raw JSON (or ''). Returns the number of events attributed
-- (their user had been exposed).
local stream, minid = ARGV[4], ARGV[5]
local attributed = 0
local items = batch_items(ARGV[6])
local raws = {}
if ARGV[7] ~= '' then raws = fields(ARGV[7], '\n') end
for i = 1, #items do
  local f = fields(items[i])
  local uid, book = f[1], f[2]
  local st = load_state(uid)
  if st then
    local A = prefix .. 'agg:' .. st[1]
    local B = prefix .. 'books:' .. uid
    local flags = nil
    for j = 3, #f do
      if f[j] ~= '' then
        local k, da, db, cond = string.match(f[j], '([^,]+),([^,]+),([^,]+),([^,]+)')
        k, da, db, cond = tonumber(k), tonumber(da), tonumber(db), tonumber(cond)
        local ok = true
        if cond > 0 then
          if flags == nil then flags = tonumber(redis.call('HGET', B, book) or '0') end
          local shown = flags % 2 == 1
          if cond == 1 then
            ok = shown and math.floor(flags / 2) % 2 == 0
            if ok then flags = flags + 2 end
          else
            ok = math.floor(flags / 4) % 2 == 0
            if ok then
              flags = flags + 4
              if shown then da = 1 else da = 0 end
            end
          end
        end
        if ok then
          local ia = 4 + 2 * k
          local a0, b0 = st[ia], st[ia + 1]
          st[ia], st[ia + 1] = a0 + da, b0 + db
          apply(A, k, st[3], a0, b0, a0 + da, b0 + db)
        end
      end
    end
    if flags ~= nil then
      redis.call('HSET', B, book, flags)
    end
    save_state(uid, st)
    attributed = attributed + 1
  end
  if raws[i] then
    redis.call('XADD', stream, 'MINID', '~', minid, '*', 'user', uid, 'd', raws[i])
  end
end
finish()
return attributed
