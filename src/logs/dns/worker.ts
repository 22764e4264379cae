// A worker thread of aggregateQueries: counts the tasks it is sent, one at a time.
import { parentPort } from 'node:worker_threads';
import type { ScanTask } from './scan.js';
import { scanTask } from './scan.js';

const port = parentPort;
if (port !== null) {
  port.on('message', (task: ScanTask) => {
    scanTask(task).then(
      (result) => port.postMessage({ ok: true, result }),
      (error: unknown) =>
        port.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) }),
    );
  });
}
