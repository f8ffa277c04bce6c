
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/src/ad_alert.c" "CMakeFiles/anomalyd_core.dir/src/ad_alert.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_alert.c.o.d"
  "/work/main/src/ad_buf.c" "CMakeFiles/anomalyd_core.dir/src/ad_buf.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_buf.c.o.d"
  "/work/main/src/ad_checkpoint.c" "CMakeFiles/anomalyd_core.dir/src/ad_checkpoint.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_checkpoint.c.o.d"
  "/work/main/src/ad_config.c" "CMakeFiles/anomalyd_core.dir/src/ad_config.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_config.c.o.d"
  "/work/main/src/ad_daemon.c" "CMakeFiles/anomalyd_core.dir/src/ad_daemon.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_daemon.c.o.d"
  "/work/main/src/ad_decode.c" "CMakeFiles/anomalyd_core.dir/src/ad_decode.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_decode.c.o.d"
  "/work/main/src/ad_demo.c" "CMakeFiles/anomalyd_core.dir/src/ad_demo.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_demo.c.o.d"
  "/work/main/src/ad_detector.c" "CMakeFiles/anomalyd_core.dir/src/ad_detector.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_detector.c.o.d"
  "/work/main/src/ad_err.c" "CMakeFiles/anomalyd_core.dir/src/ad_err.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_err.c.o.d"
  "/work/main/src/ad_http.c" "CMakeFiles/anomalyd_core.dir/src/ad_http.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_http.c.o.d"
  "/work/main/src/ad_httpd.c" "CMakeFiles/anomalyd_core.dir/src/ad_httpd.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_httpd.c.o.d"
  "/work/main/src/ad_kafka.c" "CMakeFiles/anomalyd_core.dir/src/ad_kafka.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_kafka.c.o.d"
  "/work/main/src/ad_log.c" "CMakeFiles/anomalyd_core.dir/src/ad_log.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_log.c.o.d"
  "/work/main/src/ad_metrics.c" "CMakeFiles/anomalyd_core.dir/src/ad_metrics.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_metrics.c.o.d"
  "/work/main/src/ad_model.c" "CMakeFiles/anomalyd_core.dir/src/ad_model.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_model.c.o.d"
  "/work/main/src/ad_notify.c" "CMakeFiles/anomalyd_core.dir/src/ad_notify.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_notify.c.o.d"
  "/work/main/src/ad_pipeline.c" "CMakeFiles/anomalyd_core.dir/src/ad_pipeline.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_pipeline.c.o.d"
  "/work/main/src/ad_remote.c" "CMakeFiles/anomalyd_core.dir/src/ad_remote.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_remote.c.o.d"
  "/work/main/src/ad_replay.c" "CMakeFiles/anomalyd_core.dir/src/ad_replay.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_replay.c.o.d"
  "/work/main/src/ad_score.c" "CMakeFiles/anomalyd_core.dir/src/ad_score.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_score.c.o.d"
  "/work/main/src/ad_sim.c" "CMakeFiles/anomalyd_core.dir/src/ad_sim.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_sim.c.o.d"
  "/work/main/src/ad_simprod.c" "CMakeFiles/anomalyd_core.dir/src/ad_simprod.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_simprod.c.o.d"
  "/work/main/src/ad_sink.c" "CMakeFiles/anomalyd_core.dir/src/ad_sink.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_sink.c.o.d"
  "/work/main/src/ad_snapshot.c" "CMakeFiles/anomalyd_core.dir/src/ad_snapshot.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_snapshot.c.o.d"
  "/work/main/src/ad_spill.c" "CMakeFiles/anomalyd_core.dir/src/ad_spill.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_spill.c.o.d"
  "/work/main/src/ad_state.c" "CMakeFiles/anomalyd_core.dir/src/ad_state.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_state.c.o.d"
  "/work/main/src/ad_statetopic.c" "CMakeFiles/anomalyd_core.dir/src/ad_statetopic.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_statetopic.c.o.d"
  "/work/main/src/ad_time.c" "CMakeFiles/anomalyd_core.dir/src/ad_time.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_time.c.o.d"
  "/work/main/src/ad_webhook.c" "CMakeFiles/anomalyd_core.dir/src/ad_webhook.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_webhook.c.o.d"
  "/work/main/src/ad_window.c" "CMakeFiles/anomalyd_core.dir/src/ad_window.c.o" "gcc" "CMakeFiles/anomalyd_core.dir/src/ad_window.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
