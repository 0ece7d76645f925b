export { main, ExitCode, type Output } from "./daemon.js";
export { settingsFrom, type Environment, type Settings } from "./settings.js";
export { daemonEnvironment, demoEnvironment, secretlessDemoIdentities, secretlessEmulatorConfig, trustUserAssignedIdentity } from "./demo-directory.js";
export { runSecretlessStory, KEY_VAULT_RUNS, ROTATE_AFTER_RUN, type AppTokenRequest, type DaemonRunResult, type StoryOptions, type StoryResult } from "./story.js";
