// Embedded so the package ships its scripts inside its JavaScript (no .lua asset to copy or find at
// run time). The Lua's own comments say why each step is there.
export const RENEW_LUA = String.raw`
-- Watchdog renewal: extends the lease only if this owner still holds the lock.
-- Returns 1 when renewed, 0 when the lock is gone or held by someone else.
local lockKey = KEYS[1]
local owner = ARGV[1]
local leaseMs = tonumber(ARGV[2])
if not leaseMs or leaseMs ~= leaseMs or leaseMs < 1 or leaseMs > 2147483647 or leaseMs ~= math.floor(leaseMs) then
  return redis.error_reply('ERR invalid lease ' .. tostring(ARGV[2]))
end

if redis.call('hexists', lockKey, owner) == 1 then
  redis.call('pexpire', lockKey, leaseMs)
  return 1
end
return 0
`;
