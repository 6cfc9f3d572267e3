/**
 * Auth: verifies bearer tokens exactly as kube-apiserver's OIDC authenticator does (issuer, audience,
 * exp without leeway, nbf with 60 s, asymmetric algorithms only, claims before signature, the same claim
 * mappings). Promises a UserInfo or a 401 AdmissionError whose detail never contains the token. It does
 * not add `system:authenticated`; the admission steps do, like kube-apiserver's group adder.
 */
import { Module } from '@nestjs/common';
import { OidcAuthenticatorService } from './oidc-authenticator.service.js';

@Module({ providers: [OidcAuthenticatorService], exports: [OidcAuthenticatorService] })
export class AuthModule {}
