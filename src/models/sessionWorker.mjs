// One ONNX Runtime session on a worker thread (src/models/backend.ts, `worker: true`). onnxruntime-node's
// run() is synchronous under its promise (the native call sits in a setImmediate), so on the main thread it
// blocks every other step while the model runs; here it blocks only this thread. Plain JavaScript, so the
// worker needs no TypeScript loader (the CLI registers tsx in its own thread only).
//
// Protocol: workerData { path, options } opens the session, answered by { type: 'ready', meta } or
// { type: 'failed', message }; { type: 'run', id, feeds, fetches } is answered by { type: 'result', id,
// outputs } or { type: 'result', id, error }. Tensors travel as { type, data, dims }; output buffers are
// transferred, not copied. The parent ends the worker with terminate() after release.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

const port = parentPort;
if (!port) throw new Error('sessionWorker.mjs runs as a worker thread (src/models/backend.ts)');

/** A tensor as it crosses the thread boundary. */
const plain = (t) => ({ type: t.type, data: t.data, dims: [...t.dims] });

/** A buffer that can move to the parent without detaching memory something else still reads. */
const movable = (data) =>
  ArrayBuffer.isView(data) && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;

let session;
try {
  session = await ort.InferenceSession.create(workerData.path, workerData.options);
  port.postMessage({
    type: 'ready',
    meta: {
      inputNames: session.inputNames,
      outputNames: session.outputNames,
      inputMetadata: session.inputMetadata,
      outputMetadata: session.outputMetadata,
    },
  });
} catch (e) {
  port.postMessage({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
}

port.on('message', (m) => {
  if (m.type === 'release') {
    const s = session;
    session = undefined;
    Promise.resolve(s?.release())
      .catch(() => undefined)
      .finally(() => port.postMessage({ type: 'released' }));
    return;
  }
  if (m.type !== 'run') return;
  if (!session) {
    port.postMessage({ type: 'result', id: m.id, error: 'the session is not open' });
    return;
  }
  let res;
  try {
    const feeds = {};
    for (const [name, t] of Object.entries(m.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    res = m.fetches ? session.run(feeds, m.fetches) : session.run(feeds);
  } catch (e) {
    port.postMessage({ type: 'result', id: m.id, error: e instanceof Error ? e.message : String(e) });
    return;
  }
  res.then(
    (outs) => {
      const outputs = {};
      const transfer = [];
      for (const [name, t] of Object.entries(outs)) {
        outputs[name] = plain(t);
        if (movable(t.data) && !transfer.includes(t.data.buffer)) transfer.push(t.data.buffer);
      }
      port.postMessage({ type: 'result', id: m.id, outputs }, transfer);
    },
    (e) => port.postMessage({ type: 'result', id: m.id, error: e instanceof Error ? e.message : String(e) }),
  );
});
