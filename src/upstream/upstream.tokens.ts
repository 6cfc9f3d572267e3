/** DI token for the resolved UpstreamTarget. */
export const UPSTREAM_TARGET = Symbol('UPSTREAM_TARGET');
