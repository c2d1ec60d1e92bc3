// Bad networks get one InputError naming the node or link and what was expected.
#include <string>

#include "core/runtime/error.hpp"
#include "solvers/lwr/network/network_solver.hpp"
#include "tests/solvers/lwr_network/small_networks.hpp"
#include "tests/support/catch.hpp"
#include "tests/support/input_error.hpp"

using tessera::testing::input_error_of;

using namespace tessera::solvers::lwr::network;
using namespace tessera::solvers::lwr::network::testing;
using Catch::Matchers::Contains;

TEST_CASE("bad road networks are refused with a clear message", "[bad_input]") {
  SECTION("turning fractions that do not sum to 1") {
    RoadNetwork net = corridor();
    net.node(3).turning = {{0.7, 0.2}};
    CHECK_THAT(input_error_of([&] { net.finalize(2.0, "network.dt"); }),
               Contains("junction 'diverge'") && Contains("in-link 'mid'") &&
                   Contains("sum to 0.9, expected 1"));
  }
  SECTION("a junction with several out-links but no turning fractions") {
    RoadNetwork net = corridor();
    net.node(3).turning.clear();
    CHECK_THAT(input_error_of([&] { net.finalize(2.0, "network.dt"); }),
               Contains("'diverge' has 2 out-links but no turning fractions"));
  }
  SECTION("a link shorter than one cell") {
    RoadNetwork net = corridor();
    net.link(1).length = 40.0;  // v dt = 58.3 m at dt = 2 s
    CHECK_THAT(input_error_of([&] { net.finalize(2.0, "network.dt"); }),
               Contains("link 'ramp_on' is 40 m long, shorter than one cell") &&
                   Contains("network.dt = 2 s"));
  }
  SECTION("a time step above the CFL limit of a link with given cells") {
    RoadNetwork net = corridor();
    net.link(0).cells = 50;  // 40 m cells: dt <= 40 / 29.17 = 1.37 s
    CHECK_THAT(input_error_of([&] { net.finalize(2.0, "network.dt"); }),
               Contains("network.dt = 2 s is above the CFL limit of link 'up'") &&
                   Contains("dt <= dx / v = 1.37"));
  }
  SECTION("an origin with an in-link") {
    RoadNetwork net = corridor();
    net.add_link(make_link("back", 2, 0, 1000, 1));
    CHECK_THAT(input_error_of([&] { net.finalize(2.0, "network.dt"); }),
               Contains("origin 'origin' has 1 in-links and 1 out-links"));
  }
  SECTION("a link to a node that does not exist") {
    RoadNetwork net = corridor();
    CHECK_THAT(input_error_of([&] { net.add_link(make_link("nowhere", 0, 42, 1000, 1)); }),
               Contains("link 'nowhere': node id 42 is not one of the 6 nodes"));
  }
  SECTION("more ranks than links") {
    RoadNetwork net = corridor();
    net.finalize(2.0, "network.dt");
    CHECK_THAT(input_error_of([&] { partition_links(net, 6, "metis"); }),
               Contains("6 ranks for a road network of 5 links"));
  }
  SECTION("turning fractions set during a run are checked the same way") {
    RoadNetwork net = corridor();
    net.finalize(2.0, "network.dt");
    NetworkSolver solver(MPI_COMM_SELF, net, 2.0, std::vector<int>(5, 0));
    CHECK_THAT(input_error_of([&] {
                 solver.set_turning(3, {{0.5, 0.6}});
               }),
               Contains("sum to 1.1, expected 1"));
  }
}
