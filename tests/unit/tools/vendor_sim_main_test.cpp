// The rg-vendor-sim executable as scripts use it: one ready line on stdout, --port-file,
// exit 0 on SIGTERM, exit 2 with a catalogued message on bad options.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

#include "sim_test_client.hpp"

namespace rg::tools::test {
namespace {

struct Child {
  pid_t pid = -1;
  int out = -1;  ///< the child's stdout
  int err = -1;  ///< the child's stderr
};

Child Spawn(const std::vector<std::string>& args) {
  int out[2];
  int err[2];
  if (pipe(out) != 0 || pipe(err) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    close(out[0]);
    close(out[1]);
    close(err[0]);
    close(err[1]);
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv(RG_VENDOR_SIM_PATH, argv.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  return {pid, out[0], err[0]};
}

std::string ReadLine(int fd) {
  std::string line;
  char c = 0;
  while (read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

std::string ReadAll(int fd) {
  std::string all;
  char buffer[512];
  for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) {
    all.append(buffer, static_cast<size_t>(n));
  }
  return all;
}

int Wait(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(VendorSimMain, PrintsOneReadyLineWritesThePortFileAndStopsOnSigterm) {
  const std::filesystem::path port_file =
      std::filesystem::temp_directory_path() /
      ("rg-vendor-sim-test-" + std::to_string(getpid()) + ".port");
  const Child child = Spawn({"rg-vendor-sim", "--port-file", port_file.string()});
  ASSERT_GT(child.pid, 0);
  const std::string line = ReadLine(child.out);
  std::smatch match;
  ASSERT_TRUE(
      std::regex_match(line, match, std::regex(R"(rg-vendor-sim listening on 127\.0\.0\.1:(\d+))")))
      << line;
  const std::string port = match[1];
  std::ifstream in(port_file);
  std::string written;
  in >> written;
  EXPECT_EQ(written, port);

  const HttpReply health = Send(static_cast<uint16_t>(std::stoi(port)), "GET", "/sim/health", "");
  EXPECT_EQ(health.status, 200);

  kill(child.pid, SIGTERM);
  EXPECT_EQ(ReadAll(child.out), "") << "exactly one line on stdout";
  EXPECT_EQ(Wait(child.pid), 0);
  EXPECT_FALSE(std::filesystem::exists(port_file)) << "removed on a clean stop";
  close(child.out);
  close(child.err);
}

TEST(VendorSimMain, BadOptionsExitWithTheCataloguedMessage) {
  const Child child = Spawn({"rg-vendor-sim", "--host", "0.0.0.0"});
  ASSERT_GT(child.pid, 0);
  EXPECT_EQ(ReadAll(child.err),
            "rg-vendor-sim: error RG-S001: --host 0.0.0.0 is not a loopback address; the "
            "simulator serves fake vendors over plain HTTP, so use 127.0.0.1 or pass "
            "--allow-non-loopback\n");
  EXPECT_EQ(ReadAll(child.out), "");
  EXPECT_EQ(Wait(child.pid), 2);
  close(child.out);
  close(child.err);
}

}  // namespace
}  // namespace rg::tools::test
