#include "engine/attach.h"
