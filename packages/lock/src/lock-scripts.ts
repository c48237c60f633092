import { LuaScript } from './lua-script';
import { ACQUIRE_LUA } from './lua/acquire.lua';
import { forceReleaseLua } from './lua/force-release.lua';
import { LEAVE_QUEUE_LUA } from './lua/leave-queue.lua';
import { releaseLua } from './lua/release.lua';
import { RENEW_LUA } from './lua/renew.lua';

/** The lock library's Lua scripts (embedded in `lua/`, one module per script). */
export const lockScripts = {
  acquire: new LuaScript('acquire.lua', ACQUIRE_LUA, [2, 4]),
  release: new LuaScript('release.lua', releaseLua('publish'), 6),
  /** release.lua telling waiters by sharded pub/sub (`shardedPubSub`). */
  releaseSharded: new LuaScript('release.lua (sharded)', releaseLua('spublish'), 6),
  renew: new LuaScript('renew.lua', RENEW_LUA, 1),
  forceRelease: new LuaScript('force-release.lua', forceReleaseLua('publish'), 2),
  forceReleaseSharded: new LuaScript('force-release.lua (sharded)', forceReleaseLua('spublish'), 2),
  leaveQueue: new LuaScript('leave-queue.lua', LEAVE_QUEUE_LUA, 4),
};
