-- The seed's v3 release: compare the owner value and delete in one atomic step.
-- Returns 1 if deleted, 0 if the key is absent or holds another owner's value.
local lockKey = KEYS[1]
local owner = ARGV[1]

if redis.call('get', lockKey) == owner then
  return redis.call('del', lockKey)
end
return 0
