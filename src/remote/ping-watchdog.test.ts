import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { PingWatchdog } from './ping-watchdog.ts';

/** A watchdog on mocked timers, with its pings and verdicts recorded. */
function rig(t: TestContext, o: { busy?: () => boolean; sent?: boolean } = {}) {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const pings: Array<(ok: boolean) => void> = [];
  const deaths: string[] = [];
  const w = new PingWatchdog({
    busy: o.busy ?? (() => true),
    ping: (answered) => {
      pings.push(answered);
      return o.sent ?? true;
    },
    dead: (why) => deaths.push(why),
    intervalMs: 1000,
  });
  return { w, pings, deaths };
}

test('a busy connection whose pings are answered stays alive', (t) => {
  const { w, pings, deaths } = rig(t);
  w.arm();
  for (let i = 0; i < 5; i++) {
    t.mock.timers.tick(1000);
    pings.at(-1)!(true);
  }
  assert.equal(pings.length, 5);
  assert.deepEqual(deaths, []);
  w.stop();
});

test('a ping still unanswered at the next tick declares the connection dead, once', (t) => {
  const { w, pings, deaths } = rig(t);
  const timers = t.mock.timers;
  w.arm();
  timers.tick(1000);
  assert.equal(pings.length, 1);
  timers.tick(1000);
  timers.tick(5000);
  assert.deepEqual(deaths, ['no answer to a ping within 1 s']);
  pings[0]!(true); // a late answer changes nothing
  assert.equal(deaths.length, 1);
});

test('a failed ping declares the connection dead', (t) => {
  const { w, pings, deaths } = rig(t);
  w.arm();
  t.mock.timers.tick(1000);
  pings[0]!(false);
  assert.deepEqual(deaths, ['ping failed']);
});

test('an idle connection is not pinged, and the watch stops until armed again', (t) => {
  let busy = false;
  const { w, pings, deaths } = rig(t, { busy: () => busy });
  const timers = t.mock.timers;
  w.arm();
  timers.tick(3000);
  assert.equal(pings.length, 0);
  busy = true;
  timers.tick(3000); // stopped at the first idle tick: nothing until armed
  assert.equal(pings.length, 0);
  w.arm();
  timers.tick(1000);
  assert.equal(pings.length, 1);
  assert.deepEqual(deaths, []);
  w.stop();
});

test('a ping that could not be sent is not waited for', (t) => {
  const { w, pings, deaths } = rig(t, { sent: false });
  const timers = t.mock.timers;
  w.arm();
  timers.tick(1000);
  timers.tick(1000);
  assert.equal(pings.length, 2);
  assert.deepEqual(deaths, []);
  w.stop();
});
