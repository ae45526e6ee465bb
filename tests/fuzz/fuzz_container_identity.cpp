// What a scan reads of the node's processes and files, from any bytes: the
// text of /proc/PID/cgroup, mountinfo, stat and status, an OCI config.json or
// Docker's config.v2.json, and log directory names. Whatever the input, a
// container id is 64 lowercase hex or nothing, a pod uid has one of its two
// shapes or is empty, and a monitor (conmon) is never a container.
#include "agent/scan/container_identity.h"
#include "agent/scan/pinned_process.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

bool hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool uid_shape(const std::string& uid) {
  if (uid.empty()) return true;
  if (uid.size() == 32) return hex(uid);
  if (uid.size() != 36) return false;
  for (std::size_t i = 0; i < uid.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? uid[i] != '-' : !hex(uid.substr(i, 1))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pycheck;
  std::string_view in = fuzz::as_view(data, size);
  for (const CgroupIdentity& id : {parse_proc_cgroup(in), parse_cgroup_path(in)}) {
    FUZZ_CHECK(id.container_id.empty() || (id.container_id.size() == 64 && hex(id.container_id)));
    FUZZ_CHECK(uid_shape(id.pod_uid));
    FUZZ_CHECK(!(id.conmon && id.is_container()));
    FUZZ_CHECK(id.pod_uid.empty() || !id.container_id.empty());  // a pod only above a container
  }
  KubeletMounts mounts = parse_kubelet_mounts(in);
  FUZZ_CHECK(uid_shape(mounts.pod_uid));
  FUZZ_CHECK(mounts.container_name.empty() || !mounts.pod_uid.empty());
  FUZZ_CHECK(mounts.container_name.find('/') == std::string::npos);
  (void)parse_oci_annotations(in, ContainerRuntime::containerd);
  (void)parse_oci_annotations(in, ContainerRuntime::crio);
  (void)parse_docker_config(in);
  auto [entry, id] = fuzz::split_two(in);
  if (auto dir = match_pod_log_dir(entry, id)) {
    FUZZ_CHECK(!dir->namespace_name.empty() && !dir->pod.empty());
    FUZZ_CHECK(dir->pod.find('_') == std::string::npos);
  }
  if (auto log = match_container_log(entry, id)) {
    FUZZ_CHECK(!log->container.empty() && log->namespace_name.find('_') == std::string::npos);
  }
  ProcessFacts facts;
  if (parse_proc_stat(in, facts)) FUZZ_CHECK(facts.state != ' ');
  FUZZ_CHECK(parse_innermost_pid(in) >= 0);
  return 0;
}
