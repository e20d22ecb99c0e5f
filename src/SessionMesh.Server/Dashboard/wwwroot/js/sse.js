// Server-Sent Events read with fetch and a stream reader: EventSource cannot send an Authorization header.
import { apiUrl, ApiError } from './api.js';

/** Splits an SSE body into frames {event, id, data}; comments (": keep-alive") are skipped. */
export async function* readFrames(body, signal) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let frame = { event: 'message', id: null, data: [] };
  try {
    while (!signal?.aborted) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (line === '') {
          if (frame.data.length > 0) yield { event: frame.event, id: frame.id, data: frame.data.join('\n') };
          frame = { event: 'message', id: null, data: [] };
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') frame.event = text;
          else if (field === 'id') frame.id = text;
          else if (field === 'data') frame.data.push(text);
        }
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

const wait = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

/**
 * Follows one SSE endpoint for as long as the signal allows, resuming with Last-Event-ID after a drop.
 * handlers: onOpen() once the stream answers (before any frame), onFrame(event, data) for each frame but pings,
 * onReset() on a 410 (history compacted past the last id seen: start over), onDrop() when the stream breaks,
 * onFatal(error) for a refusal that retrying cannot cure (or an `end` frame).
 */
export async function followStream(api, path, query, handlers, signal) {
  let lastId = null;
  let delay = 500;
  while (!signal.aborted) {
    try {
      const response = await fetch(apiUrl(path, query), {
        headers: {
          Authorization: `Bearer ${api.key}`,
          Accept: 'text/event-stream',
          ...(lastId ? { 'Last-Event-ID': lastId } : {}),
        },
        signal,
        cache: 'no-store',
        credentials: 'omit',
      });
      if (response.status === 410) {
        lastId = null;
        handlers.onReset?.();
        continue;
      }
      if (!response.ok) {
        let problem = null;
        try { problem = await response.json(); } catch { /* not JSON */ }
        const error = new ApiError(response.status, problem);
        if ([400, 401, 403, 404].includes(response.status)) {
          handlers.onFatal(error);
          return;
        }
        throw error;
      }
      handlers.onOpen?.();
      delay = 500;
      for await (const frame of readFrames(response.body, signal)) {
        if (frame.id) lastId = frame.id;
        if (frame.event === 'ping') continue;
        const data = JSON.parse(frame.data);
        if (frame.event === 'end') {
          handlers.onFatal(new ApiError(401, { code: data.code, detail: data.reason ?? 'The key is no longer valid.' }));
          return;
        }
        handlers.onFrame(frame.event, data);
      }
    } catch (error) {
      if (signal.aborted) return;
      console.warn(`stream ${path} dropped`, error);
    }
    if (signal.aborted) return;
    handlers.onDrop?.();
    await wait(delay, signal);
    delay = Math.min(delay * 2, 10_000);
  }
}

/** Watches GET /events: handlers as followStream's, with onEvent(event) for each event. */
export function watchEvents(api, handlers, signal) {
  return followStream(api, '/events', undefined, { ...handlers, onFrame: (_, event) => handlers.onEvent(event) }, signal);
}
