import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { describeServer } from '../src/server-kind';

describe('describeServer', () => {
  it.each([
    [
      'http.createServer()',
      () => http.createServer(),
      { isTls: false, isHttp1: true, isHttp2: false },
    ],
    [
      'https.createServer()',
      () => https.createServer(),
      { isTls: true, isHttp1: true, isHttp2: false },
    ],
    [
      'net.createServer()',
      () => net.createServer(),
      { isTls: false, isHttp1: false, isHttp2: false },
    ],
    [
      'tls.createServer()',
      () => tls.createServer(),
      { isTls: true, isHttp1: false, isHttp2: false },
    ],
    [
      'http2.createServer()',
      () => http2.createServer(),
      { isTls: false, isHttp1: false, isHttp2: true },
    ],
    [
      'http2.createSecureServer()',
      () => http2.createSecureServer(),
      { isTls: true, isHttp1: false, isHttp2: true },
    ],
  ])('tells what %s speaks', (_name, create, kind) => {
    expect(describeServer(create())).toEqual(kind);
  });

  it('does not take a net.Server that only looks like a TLS server for one', () => {
    const server = Object.assign(net.createServer(), { setSecureContext: () => undefined });
    expect(describeServer(server)).toEqual({ isTls: false, isHttp1: false, isHttp2: false });
  });

  it.each([null, undefined, 3, 'server', {}, () => undefined])(
    'refuses %p with LASTCALL_ERR_TERMINATOR_INVALID_SERVER',
    (value) => {
      expect(() => describeServer(value)).toThrow(
        expect.objectContaining({ code: 'LASTCALL_ERR_TERMINATOR_INVALID_SERVER' }) as Error,
      );
    },
  );
});
