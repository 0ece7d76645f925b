export { startOrdersApi, type OrdersApi, type OrdersApiOptions } from "./orders-api.js";
export { callOrdersApi, peekClaims, type DaemonRun } from "./daemon.js";
