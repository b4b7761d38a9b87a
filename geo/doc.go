// Package geo chooses the data centre that answers a DYNA/DYNC query: it
// parses the `geoip:` configuration (maps, nets, auto mode, resources) with
// gdnsd 3.x semantics, compiles every map and its MaxMind database into an
// immutable merged prefix tree of de-duplicated DC lists, and resolves one
// client (ECS or source address) to an answer with failover, admin_state
// forcing and the ECS scope, without allocating on the query path. It
// does the same for gdnsd's other resolver plugins (metafo, multifo,
// simplefo, weighted, static, reflect, null), which geoip and metafo
// resources may refer to (`%plugin!res`).
package geo
