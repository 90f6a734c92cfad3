/** Istio 1.17's standard labels in stat-name order (istio/proxy extensions/stats/plugin.h). */
export const LABEL_ORDER: readonly string[] = [
  'reporter', 'source_workload', 'source_workload_namespace', 'source_principal', 'source_app', 'source_version',
  'source_canonical_service', 'source_canonical_revision', 'source_cluster', 'destination_workload',
  'destination_workload_namespace', 'destination_principal', 'destination_app', 'destination_version', 'destination_service',
  'destination_service_name', 'destination_service_namespace', 'destination_canonical_service', 'destination_canonical_revision',
  'destination_cluster', 'request_protocol', 'response_flags', 'connection_security_policy', 'response_code', 'grpc_response_status',
];
