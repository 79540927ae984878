// SPDX-License-Identifier: MIT
// The OpenTelemetry SDK as the OpenTelemetry Operator injects it into a Node.js
// pod, for `make bench`'s peer comparison: `node --require bench/node/sdk.js
// service.js ...`. Every automatic instrumentation with its defaults, the
// SDK's default batch span processor and resource detectors, traces exported
// with the OTLP/HTTP protobuf exporter to OTEL_EXPORTER_OTLP_ENDPOINT (the
// bench's sink); the SDK's other signals as the environment says.
"use strict";

const { NodeSDK } = require("@opentelemetry/sdk-node");
const { getNodeAutoInstrumentations } = require("@opentelemetry/auto-instrumentations-node");
const { OTLPTraceExporter } = require("@opentelemetry/exporter-trace-otlp-proto");

const sdk = new NodeSDK({
	traceExporter: new OTLPTraceExporter(),
	instrumentations: [getNodeAutoInstrumentations()],
});
sdk.start();
// service.js calls this on SIGTERM, before it exits: what the batch processor
// still holds is exported, so the bench counts every span the SDK made.
globalThis.benchSdkShutdown = () => sdk.shutdown().catch(() => {});
