#include "axon/version.h"

namespace axon {

const char* version() { return AXON_VERSION; }

}  // namespace axon
