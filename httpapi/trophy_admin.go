package httpapi

func (h *handler) routeTrophyAdmin() {}
