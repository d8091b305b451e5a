/** Entry point of the single-file executable: the CLI, with nothing else to resolve at run time. */
import { runCli } from '../main.js'

// A single executable application sees argv as `node script …`: argv[1] is the executable again.
runCli(process.argv.slice(2))
