export { main, ExitCode, type Output } from "./daemon.js";
export { runRotationDemo, DEMO_RUNS, ROTATE_AFTER_RUN, type DemoCertificate, type RotationDemoOptions, type RotationDemoResult } from "./rotation-demo.js";
export { demoEnvironment, keyVaultDemoIdentities, keyVaultEmulatorConfig, vaultSecretOf } from "./demo-directory.js";
