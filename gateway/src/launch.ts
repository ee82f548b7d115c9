/**
 * How the gateway process is launched: Node flags that keep its memory small on a Pi.
 * The same flags stand in the `tidegate` shebang (cli.ts), `npm start` and the systemd
 * unit; simulators and tests that start the gateway as a child use this list.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
