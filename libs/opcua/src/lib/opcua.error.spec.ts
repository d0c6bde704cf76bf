import { OpcuaError } from './opcua.error';
import { OpcuaSecurityError, securityMode } from './security';

describe('OpcuaError', () => {
  it('says which failure it is, and only a failed subscription is worth trying again', () => {
    const failed = new OpcuaError('MONITORING_FAILED', 'BadSessionClosed', { cause: 'x' });
    expect(failed).toBeInstanceOf(Error);
    expect(failed).toMatchObject({
      name: 'OpcuaError',
      code: 'MONITORING_FAILED',
      retriable: true,
    });
    expect(failed.cause).toBe('x');
    expect(new OpcuaError('NAMESPACE_MISSING', 'no namespace').retriable).toBe(false);
    expect(new OpcuaError('UNKNOWN_TAG', 'unknown tag T-1').retriable).toBe(false);
  });

  it('tells a bad security setting from the rest', () => {
    expect(() => securityMode('Encrypt')).toThrow(OpcuaSecurityError);
    expect(() => securityMode('Encrypt')).toThrow(
      /unknown security mode "Encrypt"; use one of None/,
    );
  });
});
