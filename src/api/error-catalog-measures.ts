/**
 * The error catalog, part 3: request errors of measures reads, cross-metric aggregation,
 * metric search and InfluxDB (src/domain/request-errors.ts).
 */

import { encodeFloat, type JsonValue, PyFloat } from '../compat/json.ts'
import {
  AggregatesResourceTypeError,
  AggregationMethodMissingError,
  CalendarResampleManyError,
  EmptySearchQueryError,
  GranularityMissingError,
  GzipDecodeError,
  InfluxDatabaseMissingError,
  InfluxQueryNotImplementedError,
  InvalidGroupbyError,
  InvalidMetricReferencesError,
  InvalidReaggregationError,
  InvalidResampleError,
  InvalidSearchQueryError,
  InvalidSearchValueError,
  MetricNotProcessedError,
  MetricsNotFoundError,
  ResampleWithoutGranularityError,
  SearchAggregationMissingError,
  UnknownMetricIdsError,
  UnknownPrecisionError,
} from '../domain/request-errors.ts'
import { type CatalogRow, message, row } from './error-catalog-row.ts'

const ID = '5a301761-f78b-46e2-8900-8b4f6fe6675a'
const text = (s: string) => (): JsonValue => s

export const MEASURES_ERRORS: readonly CatalogRow[] = [
  // ---------------------------------------------------------------- measures and aggregation
  row(
    ResampleWithoutGranularityError,
    400,
    '`resample` without `granularity`',
    text('A granularity must be specified to resample'),
    () => new ResampleWithoutGranularityError(),
  ),
  row(InvalidResampleError, 400, 'a `resample` that is not a timespan or a calendar unit', message, () => {
    return new InvalidResampleError('Unable to parse timespan')
  }),
  row(
    AggregationMethodMissingError,
    404,
    'a measures read with an `aggregation` the archive policy does not keep',
    (e) => ({
      cause: 'Aggregation method does not exist for this metric',
      detail: { metric: e.metricId, aggregation_method: e.method },
    }),
    () => new AggregationMethodMissingError(ID, 'max'),
  ),
  row(
    GranularityMissingError,
    404,
    'a measures read at a `granularity` the archive policy does not have',
    (e) =>
      `Aggregation method '${e.method}' at granularity '${encodeFloat(e.granularity)}' for metric ${e.metricId} does not exist`,
    () => new GranularityMissingError(ID, 'mean', 60),
  ),
  row(
    InvalidReaggregationError,
    400,
    '`/v1/aggregation`: a `reaggregation` method the cross-metric reducers lack (upstream: 500)',
    (e) => `Invalid reaggregation method: ${e.message}`,
    () => new InvalidReaggregationError('rate:mean'),
  ),
  row(
    CalendarResampleManyError,
    400,
    '`/v1/aggregation`: a calendar `resample` of several metrics (upstream: 500)',
    text('Calendar resampling is only supported for a single metric'),
    () => new CalendarResampleManyError(),
  ),
  row(
    InvalidGroupbyError,
    400,
    '`/v1/aggregation/resource`: a `groupby` that is no attribute',
    text('Invalid groupby attribute'),
    () => {
      return new InvalidGroupbyError()
    },
  ),
  row(
    InvalidMetricReferencesError,
    400,
    '`/v1/aggregates`: metric references whose id is not a UUID',
    (e) => ({
      cause: 'Invalid metric references',
      reason: 'badly formed hexadecimal UUID string',
      detail: e.references.map((r) => [...r]),
    }),
    () => new InvalidMetricReferencesError([['cpu', 'mean']]),
  ),
  row(
    UnknownMetricIdsError,
    404,
    '`/v1/aggregates`: metric references to metrics that do not exist',
    (e) => ({ cause: 'Unknown metrics', reason: "Provided metrics don't exists", detail: [...e.metricIds] }),
    () => new UnknownMetricIdsError([ID]),
  ),
  row(
    MetricsNotFoundError,
    400,
    '`/v1/aggregates` resource mode: a metric name none of the resources has',
    (e) => ({ cause: 'Metrics not found', detail: [...e.names] }),
    () => new MetricsNotFoundError(['cpu']),
  ),
  row(
    AggregatesResourceTypeError,
    400,
    '`/v1/aggregates` resource mode: a `resource_type` that does not exist',
    (e) => ({ cause: 'Resource type does not exist', detail: e.value as JsonValue }),
    () => new AggregatesResourceTypeError('host'),
  ),
  // ---------------------------------------------------------------- metric search
  row(
    EmptySearchQueryError,
    400,
    '`/v1/search/metric` without a body',
    text('No query specified in body'),
    () => {
      return new EmptySearchQueryError()
    },
  ),
  row(
    InvalidSearchValueError,
    400,
    '`/v1/search/metric`: a `start` or `stop` that is no timestamp',
    (e) => `Invalid value for ${e.message}`,
    () => new InvalidSearchValueError('start'),
  ),
  row(InvalidSearchQueryError, 400, '`/v1/search/metric`: a query with an unknown operator', message, () => {
    return new InvalidSearchQueryError('Unknown operator: foo')
  }),
  row(
    SearchAggregationMissingError,
    400,
    '`/v1/search/metric`: a granularity the metric archive policy does not have',
    (e) => ({
      cause: 'Aggregation does not exist',
      detail: { granularity: new PyFloat(e.granularity), aggregation_method: e.method },
    }),
    () => new SearchAggregationMissingError(60, 'mean'),
  ),
  row(
    MetricNotProcessedError,
    400,
    '`/v1/search/metric`: a metric whose measures were never processed',
    (e) => ({ cause: 'Metric does not exist', detail: { metric: e.metric as JsonValue } }),
    () => new MetricNotProcessedError({ id: ID }),
  ),
  // ---------------------------------------------------------------- InfluxDB
  row(
    InfluxQueryNotImplementedError,
    501,
    'InfluxDB: a query other than `CREATE DATABASE`',
    () => ({ cause: 'Not implemented error', detail: 'q', reason: 'Query not implemented' }),
    () => new InfluxQueryNotImplementedError(),
  ),
  row(
    GzipDecodeError,
    400,
    'InfluxDB: a `Content-Encoding: gzip` body that does not inflate',
    text('Unable to decompress the gzip request body'),
    () => new GzipDecodeError(),
  ),
  row(
    UnknownPrecisionError,
    400,
    'InfluxDB: a `precision` other than n, u, ms, s, m, h',
    (e) => ({ cause: 'Value error', detail: 'precision', reason: `Unknown precision \`${e.precision}'` }),
    () => new UnknownPrecisionError('d'),
  ),
  row(
    InfluxDatabaseMissingError,
    404,
    'InfluxDB: a write to a database never created (upstream: 500)',
    (e) => ({ cause: 'Resource type does not exist', detail: e.database }),
    () => new InfluxDatabaseMissingError('telegraf'),
  ),
]
