export { main, ExitCode, GRAPH_SCOPE, type Output } from "./daemon.js";
export { listUsers, type ApiFetch, type GraphUser, type UsersPage } from "./graph-users.js";
