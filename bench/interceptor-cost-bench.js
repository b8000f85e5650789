// What one Nest interceptor costs a request, CPU only: a bare Nest app on Fastify with three routes answering the same
// body: no interceptor, one shaped like AuditOnSuccessInterceptor (`next.handle().pipe(mergeMap(... from(promise)),
// finalize(release))`), and a leaner form (one `from` of an async function awaiting `lastValueFrom`). Each loaded at
// 16 connections for 3 s (autocannon), in the order A B C C B A three times; prints the server's CPU (user + system,
// `process.cpuUsage`) in µs per request for each run. `node bench/interceptor-cost-bench.js`.
// docs/performance.md, "The twenty-second sitting".
const { fork } = require('node:child_process');

const PORT = 3399;

function serve() {
  require('reflect-metadata');
  const { Module, Controller, Get, Injectable, UseInterceptors } = require('@nestjs/common');
  const { NestFactory } = require('@nestjs/core');
  const { FastifyAdapter } = require('@nestjs/platform-fastify');
  const { from, mergeMap, finalize, lastValueFrom } = require('rxjs');

  class AuditShaped {
    intercept(_ctx, next) {
      const release = () => undefined;
      return next.handle().pipe(
        mergeMap((body) => from(Promise.resolve().then(() => body))),
        finalize(release),
      );
    }
  }
  class Lean {
    intercept(_ctx, next) {
      const handled = next.handle();
      return from(
        (async () => {
          const body = await lastValueFrom(handled);
          await Promise.resolve();
          return body;
        })(),
      );
    }
  }
  const body = { patient: { id: '5d1e0c7a-9f7b-4a39-8a4e-1f2e3d4c5b6a', name: 'A. Patient', values: [1, 2, 3] } };
  class Routes {
    plain() {
      return Promise.resolve(body);
    }
    audit() {
      return Promise.resolve(body);
    }
    lean() {
      return Promise.resolve(body);
    }
  }
  for (const [name, interceptor] of [['plain'], ['audit', AuditShaped], ['lean', Lean]]) {
    const descriptor = Object.getOwnPropertyDescriptor(Routes.prototype, name);
    Get(name)(Routes.prototype, name, descriptor);
    if (interceptor) UseInterceptors(interceptor)(Routes.prototype, name, descriptor);
  }
  Controller()(Routes);
  Injectable()(AuditShaped);
  Injectable()(Lean);
  class BenchModule {}
  Module({ controllers: [Routes], providers: [AuditShaped, Lean] })(BenchModule);
  void (async () => {
    const app = await NestFactory.create(BenchModule, new FastifyAdapter(), { logger: false });
    await app.listen(PORT, '127.0.0.1');
    process.on('message', () => {
      const used = process.cpuUsage();
      process.send(used.user + used.system);
    });
    process.send('listening');
  })();
}

async function load() {
  const autocannon = require('autocannon');
  const server = fork(__filename, ['--serve']);
  await new Promise((resolve) => server.once('message', resolve));
  const cpu = () =>
    new Promise((resolve) => {
      server.once('message', resolve);
      server.send('cpu');
    });
  const run = (route, seconds) =>
    new Promise((resolve, reject) =>
      autocannon({ url: `http://127.0.0.1:${PORT}/${route}`, connections: 16, duration: seconds }, (err, res) =>
        err ? reject(err) : resolve(res.requests.total),
      ),
    );
  for (const route of ['plain', 'audit', 'lean']) await run(route, 2); // warm-up
  const perRequest = { plain: [], audit: [], lean: [] };
  for (let round = 0; round < 3; round++) {
    for (const route of ['plain', 'audit', 'lean', 'lean', 'audit', 'plain']) {
      const before = await cpu();
      const requests = await run(route, 3);
      perRequest[route].push(Number((((await cpu()) - before) / requests).toFixed(1)));
    }
  }
  server.kill();
  for (const [route, values] of Object.entries(perRequest)) {
    const sorted = [...values].sort((a, b) => a - b);
    process.stdout.write(
      `${route}: µs of the server's CPU per request ${values.join(', ')} (median ${sorted[Math.floor(sorted.length / 2)]})\n`,
    );
  }
}

if (process.argv.includes('--serve')) serve();
else
  load().catch((err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  });
