-- Every key a script touches must be one of its KEYS: Redis Cluster routes a script by
-- them and checks them before it runs (all in one slot, all on this node; TRYAGAIN while
-- the slot migrates), so a key a script built without declaring it could be gone halfway
-- through. declared_key(name) returns name when it is one of KEYS and fails the script
-- otherwise (a bug the tests catch on a single server too); is_declared(name) only tells.
local DECLARED = {}
for _, name in ipairs(KEYS) do DECLARED[name] = true end

local function is_declared(name)
  return DECLARED[name] == true
end

local function declared_key(name)
  if DECLARED[name] then return name end
  error('script touched undeclared key ' .. name)
end
