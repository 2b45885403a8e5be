#!/usr/bin/env node
// The example CDK app: `npx cdk synth -c stage=dev`. Stages live in cdk.json.
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app/build-app';

buildApp(new App());
