#include "engine/security.h"
