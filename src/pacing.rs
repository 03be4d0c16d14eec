//! An opt-in outbound queue that paces sends per `appId`, as GeWe's risk control asks.
