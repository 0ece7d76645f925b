export { main, ExitCode, GRAPH_SCOPE, type Output } from "./main.js";
export { listUsers, type ApiFetch, type GraphUser, type UsersPage } from "./graph-users.js";
