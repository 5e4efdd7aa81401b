/**
 * A developer tool: keeps one warm browser oracle per frontend version and converts workflows on
 * request, so probing a family of hand-made workflows costs no boot each time.
 *   node --import tsx test/workflow/oracle-daemon.mts [PORT]
 *   curl -s -XPOST 'http://127.0.0.1:PORT/convert?v=1.58.1' --data-binary @workflow.json
 * Answers {prompt} or {error}. Ctrl-C stops the browsers and the stand-ins.
 */
import { createServer } from 'node:http';
import { BrowserConverter } from '../../src/workflow/browser.js';
import { FRONTEND_VERSIONS, frontendStaticDir, parityConvertOptions } from './corpus.js';
import { startOracleServer, type OracleServer } from './oracle-server.js';

const port = Number(process.argv[2] ?? 18999);
const oracles = new Map<string, { server: OracleServer; converter: BrowserConverter }>();
for (const version of FRONTEND_VERSIONS) {
  if (!frontendStaticDir(version)) continue;
  const server = await startOracleServer(version);
  const converter = new BrowserConverter({ url: server.url });
  const info = await converter.start();
  console.log(`oracle ${version}: frontend ${info.frontendVersion} at ${server.url}`);
  oracles.set(version, { server, converter });
}
const http = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', async () => {
    const version = new URL(req.url ?? '/', 'http://x').searchParams.get('v') ?? '1.48.7';
    const oracle = oracles.get(version);
    try {
      if (!oracle) throw new Error(`no oracle for ${version}`);
      const request = JSON.parse(body) as Record<string, unknown>;
      // {workflow, script}: convert, then evaluate `script` (a function body given `app`) in the page.
      const workflow = typeof request.script === 'string' ? request.workflow : request;
      const prompt = await oracle.converter.convert(workflow, parityConvertOptions());
      let evaluated: unknown;
      if (typeof request.script === 'string') {
        const { page } = await (oracle.converter as unknown as { booting: Promise<{ page: import('playwright-core').Page }> }).booting;
        evaluated = await page.evaluate(`(async (app) => { ${request.script} })(window.app)`);
      }
      res.end(JSON.stringify({ prompt, evaluated }));
    } catch (error) {
      res.end(JSON.stringify({ error: (error as Error).message }));
    }
  });
});
http.listen(port, '127.0.0.1', () => console.log(`oracle daemon on ${port}`));
const stop = async () => {
  http.close();
  for (const { server, converter } of oracles.values()) { await converter.close(); await server.stop(); }
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
