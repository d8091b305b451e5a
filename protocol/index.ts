export {
  PROTOCOL_VERSION, LIMITS, Unit, MetricValue, Unavailable, HostFacts, InstalledApp, Inventory,
  Report, ReportBatch, BatchAck, EnrollRequest, EnrollResponse, ErrorBody,
  StreamReports, StreamAck, StreamError, MAX_STREAM_FRAME_BYTES, MAX_BODY_BYTES, STREAM_CLOSE,
  AgentRotateResponse, TOKEN_ROTATE_HEADER
} from './v1.js'
export { EnrollHardware } from './v1.js'
export { seriesKey, parseSeriesKey, sameLabels } from './series.js'
