import { describe, expect, it } from '@jest/globals';
import { resolveRequestInfo } from '../../../src/proxy/request-info.js';

describe('resolveRequestInfo', () => {
  it.each([
    ['GET', '/api/v1/namespaces/default/pods/web', { verb: 'get', apiGroup: '', apiVersion: 'v1', namespace: 'default', resource: 'pods', name: 'web' }],
    ['GET', '/api/v1/namespaces/default/pods', { verb: 'list', namespace: 'default', resource: 'pods' }],
    ['GET', '/api/v1/namespaces/default/pods?watch=true', { verb: 'watch', resource: 'pods', longRunning: true }],
    ['GET', '/api/v1/namespaces/default/pods?watch=1&resourceVersion=5', { verb: 'watch' }],
    ['GET', '/api/v1/namespaces/default/pods?watch=false', { verb: 'list' }],
    ['GET', '/api/v1/watch/namespaces/default/pods/web', { verb: 'watch', resource: 'pods', name: 'web', longRunning: true }],
    ['GET', '/api/v1/pods', { verb: 'list', resource: 'pods' }],
    ['GET', '/api/v1/namespaces', { verb: 'list', resource: 'namespaces' }],
    ['GET', '/api/v1/namespaces/kube-system', { verb: 'get', resource: 'namespaces', name: 'kube-system', namespace: 'kube-system' }],
    ['PUT', '/api/v1/namespaces/kube-system/finalize', { verb: 'update', resource: 'namespaces', name: 'kube-system', subresource: 'finalize' }],
    ['POST', '/api/v1/namespaces/default/pods/web/exec?command=sh', { verb: 'create', subresource: 'exec', longRunning: true }],
    ['GET', '/api/v1/namespaces/default/pods/web/exec?command=sh', { verb: 'get', subresource: 'exec', longRunning: true }],
    ['POST', '/api/v1/namespaces/default/pods/web/portforward', { subresource: 'portforward', longRunning: true }],
    ['GET', '/api/v1/namespaces/default/pods/web/log?follow=true', { verb: 'get', subresource: 'log', longRunning: true }],
    ['GET', '/api/v1/namespaces/default/pods/web/proxy/metrics', { subresource: 'proxy', longRunning: true }],
    ['GET', '/api/v1/proxy/namespaces/default/pods/web', { verb: 'proxy', longRunning: true }],
    ['DELETE', '/apis/apps/v1/namespaces/default/deployments', { verb: 'deletecollection', apiGroup: 'apps', resource: 'deployments' }],
    ['DELETE', '/apis/apps/v1/namespaces/default/deployments/web', { verb: 'delete', name: 'web' }],
    ['PATCH', '/apis/apps/v1/namespaces/default/deployments/web/scale', { verb: 'patch', subresource: 'scale' }],
    ['GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles?fieldSelector=metadata.name%3Dadmin', { verb: 'list', name: 'admin' }],
    ['HEAD', '/api/v1/namespaces/default/pods', { verb: 'list', resource: 'pods', longRunning: false }],
    ['GET', '/api/v1/watch/pods', { verb: 'watch', resource: 'pods', longRunning: true }],
    ['GET', '/apis/apps/v1/watch/namespaces/default/deployments', { verb: 'watch', apiGroup: 'apps', namespace: 'default', resource: 'deployments' }],
    ['GET', '/api/v1/nodes/n1/proxy/stats', { verb: 'get', resource: 'nodes', name: 'n1', subresource: 'proxy', longRunning: true }],
    ['GET', '/api/v1/namespaces/default/services/web:80/proxy/', { resource: 'services', name: 'web:80', subresource: 'proxy', longRunning: true }],
    ['POST', '/api/v1/namespaces/default/pods/web/attach', { verb: 'create', subresource: 'attach', longRunning: true }],
    ['GET', '/api/v1/namespaces/default/pods/web/log', { verb: 'get', subresource: 'log', longRunning: true }],
    ['GET', '/api/v1/namespaces/default/pods/web', { longRunning: false }],
    ['PUT', '/api/v1/namespaces/kube-system/status', { verb: 'update', resource: 'namespaces', name: 'kube-system', subresource: 'status' }],
    ['DELETE', '/api/v1/namespaces/default/pods', { verb: 'deletecollection', namespace: 'default', resource: 'pods' }],
    ['GET', '/api/v1/namespaces/default/pods?watch', { verb: 'watch' }],
    ['GET', '/api/v1/namespaces/default/pods?watch=0', { verb: 'list' }],
    ['GET', '/api/v1/pods?fieldSelector=metadata.name%3D%3Dweb,status.phase%3DRunning&watch=true', { verb: 'watch', name: 'web' }],
    ['POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { verb: 'create', apiGroup: 'authentication.k8s.io', resource: 'selfsubjectreviews' }],
  ])('%s %s is a resource request', (method, url, expected) => {
    expect(resolveRequestInfo(method, url)).toMatchObject({ isResourceRequest: true, ...expected });
  });

  it.each([
    ['GET', '/healthz', 'get'],
    ['GET', '/version', 'get'],
    ['GET', '/api', 'get'],
    ['GET', '/api/v1', 'get'],
    ['GET', '/apis', 'get'],
    ['GET', '/apis/apps', 'get'],
    ['GET', '/apis/apps/v1', 'get'],
    ['POST', '/openid/v1/jwks', 'post'],
    ['GET', '/', 'get'],
    ['GET', '/api/v1/watch', 'get'],
    ['GET', '/api/v1/proxy', 'get'],
    ['DELETE', '/logs/x', 'delete'],
  ])('%s %s is a non-resource request', (method, url, verb) => {
    expect(resolveRequestInfo(method, url)).toMatchObject({ isResourceRequest: false, verb, longRunning: false });
  });

  it('a negated name selector names no object', () => {
    expect(resolveRequestInfo('GET', '/api/v1/pods?fieldSelector=metadata.name!%3Dweb')).not.toHaveProperty('name');
  });
});
