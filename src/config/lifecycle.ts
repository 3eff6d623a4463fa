/** Process timing shared by the entrypoint and the generated PM2 entries. */

/** How long a tenant may take to shut down (finish requests, release batch leases, flush logs). */
export const SHUTDOWN_GRACE_MS = 8000
