import { describe, expect, it } from 'vitest';
import { hostHeaderName, isLoopback, isLoopbackHostHeader } from './loopback.ts';

describe('the loopback check', () => {
  it.each(['127.0.0.1', '127.0.0.53', '127.255.1.2', 'localhost', '::1', '[::1]'])('%s is loopback', (host) => {
    expect(isLoopback(host)).toBe(true);
  });

  it.each(['0.0.0.0', '10.1.2.3', '::', '127.evil.example', '127.0.0.1.nip.io', 'localhost.example', ''])('%s is not', (host) => {
    expect(isLoopback(host)).toBe(false);
  });

  it('reads a Host header without its port, lower-cased', () => {
    expect(hostHeaderName('LocalHost:8080')).toBe('localhost');
    expect(hostHeaderName('[::1]:8080')).toBe('[::1]');
    expect(hostHeaderName('127.0.0.1')).toBe('127.0.0.1');
    expect(hostHeaderName(undefined)).toBeNull();
    expect(hostHeaderName('a:b:c')).toBeNull();
  });

  it('a Host header is loopback only when its name is (DNS rebinding: a name that merely starts with 127.)', () => {
    expect(isLoopbackHostHeader('127.0.0.1:8080')).toBe(true);
    expect(isLoopbackHostHeader('[::1]:1')).toBe(true);
    expect(isLoopbackHostHeader('127.attacker.example:8080')).toBe(false);
    expect(isLoopbackHostHeader('evil.example')).toBe(false);
    expect(isLoopbackHostHeader(undefined)).toBe(false);
  });
});
