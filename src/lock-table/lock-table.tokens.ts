/** Injection token of the app's MySQL lock-table backend (`MySqlTableLockBackend`, or null unless LOCK_BACKEND=mysql-table). */
export const LOCK_TABLE_BACKEND = Symbol('LOCK_TABLE_BACKEND');
