-- Administrative release regardless of owner. Returns 1 if a lock was deleted, 0 if none existed.
local lockKey = KEYS[1]
local channel = KEYS[2]

if redis.call('del', lockKey) == 1 then
  redis.call('publish', channel, 'released')
  return 1
end
return 0
